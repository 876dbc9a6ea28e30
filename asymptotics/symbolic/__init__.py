"""symbolic layer of asymptotics."""
