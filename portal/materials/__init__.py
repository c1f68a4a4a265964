"""材料与文件 (uploaded documents): content-checked, re-encoded, encrypted at rest, served only to those allowed."""
