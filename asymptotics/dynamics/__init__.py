"""dynamics layer of asymptotics."""
