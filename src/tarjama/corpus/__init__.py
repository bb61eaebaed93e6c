"""The parallel corpus: inputs, the row schema, building, reuse, exports, reports and plots."""
