"""Quality control (质量控制): figures, charts, the annual QC report and the summary."""
