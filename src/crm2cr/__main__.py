from crm2cr.cli.main import main

main()
