"""Built-in model registries: data files shipped with the package and their loaders."""
