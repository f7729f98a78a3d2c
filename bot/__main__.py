"""`python -m bot` is `pressbot`."""

from bot.cli import main

main()
