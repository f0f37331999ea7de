from worklife.cli import main

main()
