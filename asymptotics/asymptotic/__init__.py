"""asymptotic layer of asymptotics."""
