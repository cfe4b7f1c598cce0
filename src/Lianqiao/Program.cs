using Lianqiao.Cli;

BulkRuntime.RestartIfBulkVerb(args);
return await LianqiaoCli.RunAsync(args);
