"""Working days (chinese-calendar plus the schedules a policy carries) and deadlines as data."""
