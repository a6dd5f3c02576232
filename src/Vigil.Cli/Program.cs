using Vigil.Cli;

return await VigilCommandLine.InvokeAsync(args);
