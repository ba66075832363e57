using System.CommandLine;
using Jobs.Cli;

// No response files: `--input @file.json` is the command's own way to read a file, not System.CommandLine's.
return await JobsCommand.Build().Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null }).InvokeAsync();
