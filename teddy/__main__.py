from teddy.cli import main

main()
