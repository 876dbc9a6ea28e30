"""analysis layer of asymptotics."""
