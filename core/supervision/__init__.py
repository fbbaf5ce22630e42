"""Supervision (监管): risk warnings defined as data by plugins and evaluated by core on
live data (风险预警), each with its life — raised, seen, explained or corrected, closed or
escalated — and the credit scores built on them (信誉评分)."""
