from scaleboard.cli import program

program()
