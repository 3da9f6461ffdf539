"""Planning the next move (issue 17): is "high potential" real, and what to do next."""
