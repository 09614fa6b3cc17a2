"""Visits and teams: merging checks into visits, who may inspect, the matching, reassignment, the work plan."""
