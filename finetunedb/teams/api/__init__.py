"""Teams API (DESIGN §6): tokens, the caller, teams, members, invitations. Views parse and delegate."""
