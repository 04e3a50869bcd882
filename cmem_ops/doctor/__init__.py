"""The doctor: run every probe concurrently under one deadline and derive the exit code.

    suite.py   which probes run for the current settings, and the concurrent runner
    report.py  DoctorReport and the pure exit-code rule
"""
