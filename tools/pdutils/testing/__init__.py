"""pytest plugins shared by the test suites: the embedded AWS and the PagerDuty simulator."""
