"""What a run reports: data and example quality, the dataset card, tool documentation, the run summary."""
