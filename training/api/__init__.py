"""Training API (DESIGN §6): runs, models, pre-flight, playground. Views parse and delegate."""
