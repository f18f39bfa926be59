# A counter device's heartbeat for madoguchi (design §3), for Windows PowerShell 5.1: the
# same beats as heartbeat.sh. POST /api/v1/devices/heartbeat every 30 s with the device's own
# token (from `madoguchi device add`).
#
#   $env:MADOGUCHI_URL = 'https://madoguchi.example'
#   $env:MADOGUCHI_DEVICE_TOKEN = 'mdg_dev_…'
#   powershell -NoProfile -ExecutionPolicy Bypass -File heartbeat.ps1 [-Once] [-State FILE] [-Check CMD]
#
# -Once        one beat, then exit: 0 when it was accepted, 3 when the token was refused,
#              1 otherwise (for Task Scheduler).
# -State FILE  keep the last round trip and sequence number in FILE, so that runs of -Once
#              still report the previous beat's round trip.
# -Check CMD   run CMD (with cmd /c) before each beat: the status is "error" with the first
#              line of its output as detail (at most 200 characters) when it fails, else "ok".
#
# rtt_ms is the previous beat's HTTP round trip timed with a Stopwatch: an application-level
# figure, server time included, not a ping. The first beat has none.

param(
    [switch]$Once,
    [string]$State = '',
    [string]$Check = ''
)

$url = $env:MADOGUCHI_URL
$token = $env:MADOGUCHI_DEVICE_TOKEN
if (-not $url -or -not $token) {
    [Console]::Error.WriteLine('heartbeat: set MADOGUCHI_URL and MADOGUCHI_DEVICE_TOKEN')
    exit 2
}
$endpoint = $url.TrimEnd('/') + '/api/v1/devices/heartbeat'
# Windows PowerShell 5.1 offers TLS 1.0 unless told otherwise.
[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12

$script:rtt = $null
$script:seq = 0
if ($State -and (Test-Path -LiteralPath $State)) {
    # Two lines: the previous beat's round trip in ms (or null), its sequence number.
    $lines = @(Get-Content -LiteralPath $State -TotalCount 2)
    if ($lines.Count -ge 1 -and $lines[0] -match '^\d+$') { $script:rtt = [int]$lines[0] }
    if ($lines.Count -ge 2 -and $lines[1] -match '^\d+$') { $script:seq = [int]$lines[1] }
}

function Send-Beat {
    $status = 'ok'
    $detail = $null
    if ($Check) {
        $output = & cmd /c $Check 2>&1 | Out-String
        if ($LASTEXITCODE -ne 0) {
            $status = 'error'
            $first = ($output -split "`r?`n" | Where-Object { $_ } | Select-Object -First 1)
            if (-not $first) { $first = "check failed with exit $LASTEXITCODE" }
            $first = $first -replace '[\x00-\x1f]', ''
            if ($first.Length -gt 200) { $first = $first.Substring(0, 200) }
            $detail = $first
        }
    }
    $script:seq += 1
    $body = @{ status = $status; detail = $detail; rtt_ms = $script:rtt; seq = $script:seq } |
        ConvertTo-Json -Compress
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $http = 0
    try {
        Invoke-RestMethod -Method Post -Uri $endpoint -TimeoutSec 20 `
            -Headers @{ Authorization = "Bearer $token" } `
            -ContentType 'application/json; charset=utf-8' `
            -Body ([Text.Encoding]::UTF8.GetBytes($body)) | Out-Null
        $http = 200
    } catch {
        $response = $_.Exception.Response
        if ($response) { $http = [int]$response.StatusCode }
        $reason = $_.Exception.Message
    }
    $clock.Stop()
    if ($http -eq 0) {
        $script:rtt = $null
        [Console]::Error.WriteLine("heartbeat: no answer from ${endpoint}: $reason")
        return 1
    }
    $script:rtt = [int][Math]::Round($clock.Elapsed.TotalMilliseconds)
    if ($State) {
        try { Set-Content -LiteralPath $State -Value @("$($script:rtt)", "$($script:seq)") }
        catch { [Console]::Error.WriteLine("heartbeat: cannot write $State") }
    }
    switch ($http) {
        200 { return 0 }
        401 { [Console]::Error.WriteLine("heartbeat: token refused (401): $reason"); return 3 }
        default { [Console]::Error.WriteLine("heartbeat: ${http}: $reason"); return 1 }
    }
}

if ($Once) {
    exit (Send-Beat)
}
while ($true) {
    # A refused token will not come right by itself: stop, so the task shows it.
    if ((Send-Beat) -eq 3) { exit 1 }
    Start-Sleep -Seconds 30
}
