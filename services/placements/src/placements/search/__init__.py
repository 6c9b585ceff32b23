"""The student-portal search over published offers with free places."""
