"""What a session holds and passes, as plain values: choices and defaults, texts, examples, signals, labels."""
