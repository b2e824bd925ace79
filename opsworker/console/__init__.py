"""Pages that show several features at once (composition layer): the organization's Settings hub."""
