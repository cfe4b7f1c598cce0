using Lianqiao.Cli;

return await LianqiaoCli.RunAsync(args);
