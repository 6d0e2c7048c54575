"""The generator: records + content + templates → a static site. Never imports torch."""
