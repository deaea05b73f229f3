"""Where configuration comes from: the environment, the facility file, and the tunables."""
