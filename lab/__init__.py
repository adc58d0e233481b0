"""The project's test lab: several real hosts on one machine."""
