"""Reports per provider and unit: qualified share, lapsed qualifications, training demand."""
