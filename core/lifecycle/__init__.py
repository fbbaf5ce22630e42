"""A technology's life after admission (院内技术使用): one state of use per institution ×
technology, its history, the ethics gate, stop, suspension and resumption.

Public API (other areas call only these; see ``/work/team/API-lifecycle.md``):
``use_refusal``, ``use_refusals``, ``state``, ``states``, ``history``, ``stop``,
``suspend``, ``lift``, ``suspend_region``, ``lift_region``, ``resume``,
``on_filing_cancelled`` — all in ``core.lifecycle.service``.
"""
