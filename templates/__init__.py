"""Default message templates (data only): zh/ and en/."""
