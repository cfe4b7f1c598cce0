using Lianqiao.Cli;

VerbRuntime.RestartWithVerbSettings(args);
return await LianqiaoCli.RunAsync(args);
