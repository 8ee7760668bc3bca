"""Study rooms: group focus sessions, study sessions, membership events, leaderboards."""
