"""Matchmaking: a tic-tac-toe queue that pairs the two longest-waiting players (flow
queue_pairing), plays their game through the server and never puts a player in two games."""
