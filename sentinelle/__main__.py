from sentinelle.cli import main

main()
