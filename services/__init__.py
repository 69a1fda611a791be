"""The four services of the suite: roster, compensation, evaluation and the gateway."""
