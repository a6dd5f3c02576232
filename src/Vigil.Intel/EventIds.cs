namespace Vigil.Intel;

/// <summary>Stable log event ids of Vigil.Intel (4000–4999).</summary>
internal static class EventIds
{
    public const int AlertNotJson = 4001;
    public const int EmptyFileSkipped = 4002;
    public const int QuotaExceeded = 4010;
    public const int KeyRejected = 4011;
    public const int TransientFailure = 4012;
    public const int GaveUp = 4013;
    public const int StepFailed = 4020;
    public const int Uploaded = 4030;
    public const int UploadSkipped = 4031;
    public const int UploadFailed = 4032;
    public const int EngineAlertNotJson = 4101;
    public const int EngineNotScanned = 4102;
    public const int EngineResult = 4103;
    public const int EngineReloadFailed = 4110;
    public const int EngineReloaded = 4111;
    public const int EngineState = 4120;
    public const int EngineBack = 4121;
    public const int EngineStepFailed = 4130;
    public const int EngineRetroScanStarted = 4140;
    public const int EngineRetroScanFinished = 4141;
}
