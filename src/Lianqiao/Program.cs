using Lianqiao.Cli;
using Lianqiao.Datasets;

DatasetsCli.RestartForBulkLoad(args);
return await LianqiaoCli.RunAsync(args);
