"""Reading every format officers bring, and writing results without ever half-writing a file."""
