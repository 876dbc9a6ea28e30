"""peaked layer of asymptotics."""
