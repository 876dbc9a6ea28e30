"""numeric layer of asymptotics."""
