from exocli.cli import main

main()
