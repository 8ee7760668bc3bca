"""Analytics keeps no tables of its own: it reads the other capabilities' tables."""
