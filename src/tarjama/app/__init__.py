"""The application: the command line, ``tarjama serve`` and its web app, past runs and downloads."""
