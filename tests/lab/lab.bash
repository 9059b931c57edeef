# lab helpers
