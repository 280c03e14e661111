"""The paper's analyses: the n-gram baseline, the analyses, the `analyse` command's report."""
