<#
.SYNOPSIS
    cmem-ops bootstrap for Windows: Docker first.

.DESCRIPTION
    Puts cmem-ops (with the Docker SDK extra) in its own virtual environment, then runs
    `cmem-ops install` with the remaining arguments. On Windows the queue store is a Valkey
    container when Docker is already running; cmem-ops never installs Docker itself. Without a
    running engine, pass an existing server: -- --redis-url redis://HOST:PORT, or keep SQLite:
    -- --queue sqlite.

    Exit codes: 0 ok; 3 no suitable Python; 4 venv/pip failed; otherwise cmem-ops install's code.

.EXAMPLE
    powershell -ExecutionPolicy Bypass -File install.ps1
.EXAMPLE
    powershell -ExecutionPolicy Bypass -File install.ps1 -- --dry-run --explain
#>
[CmdletBinding()]
param(
    # What pip installs: a version pin, a path or a wheel file.
    [string]$Spec = $(if ($env:CMEM_OPS_SPEC) { $env:CMEM_OPS_SPEC } else { 'cmem-ops[docker]' }),
    # Where the virtual environment goes.
    [string]$Prefix = $(if ($env:CMEM_OPS_PREFIX) { $env:CMEM_OPS_PREFIX } else { Join-Path $env:LOCALAPPDATA 'cmem-ops' }),
    # Set up cmem-ops but do not run `cmem-ops install`.
    [switch]$NoRun,
    # Arguments passed to `cmem-ops install`.
    [Parameter(ValueFromRemainingArguments = $true)]
    [string[]]$InstallArgs = @()
)

$ErrorActionPreference = 'Stop'

function Find-Python {
    $candidates = @(@('py', '-3.13'), @('py', '-3.12'), @('py', '-3.11'), @('python3'), @('python'))
    foreach ($candidate in $candidates) {
        $exe = $candidate[0]
        if (-not (Get-Command $exe -ErrorAction SilentlyContinue)) { continue }
        $extra = @($candidate | Select-Object -Skip 1)
        & $exe @extra -c 'import sys; raise SystemExit(0 if sys.version_info >= (3, 11) else 1)' 2>$null
        if ($LASTEXITCODE -eq 0) { return , $candidate }
    }
    return $null
}

# Docker first: say up front whether the container path is open.
$docker = Get-Command docker -ErrorAction SilentlyContinue
if (-not $docker) {
    Write-Warning 'Docker is not installed. cmem-ops never installs it: install Docker Desktop, or use -- --redis-url redis://HOST:PORT.'
} else {
    & docker version --format '{{.Server.Version}}' *> $null
    if ($LASTEXITCODE -ne 0) {
        Write-Warning 'The Docker engine is not running: start Docker Desktop, then rerun (or use -- --redis-url redis://HOST:PORT).'
    }
}

$python = Find-Python
if (-not $python) {
    Write-Error 'No Python >= 3.11 found. Hint: winget install Python.Python.3.12, then rerun.' -ErrorAction Continue
    exit 3
}

$venv = Join-Path $Prefix 'venv'
$venvPython = Join-Path $venv 'Scripts\python.exe'
if (-not (Test-Path $venvPython)) {
    Write-Host "creating $venv"
    New-Item -ItemType Directory -Force -Path $Prefix | Out-Null
    $pyExe = $python[0]
    $pyArgs = @($python | Select-Object -Skip 1)
    & $pyExe @pyArgs -m venv $venv
    if ($LASTEXITCODE -ne 0) {
        Write-Error "Could not create the virtual environment $venv." -ErrorAction Continue
        exit 4
    }
}

Write-Host "installing $Spec into $venv"
& $venvPython -m pip install --quiet --upgrade $Spec
if ($LASTEXITCODE -ne 0) {
    Write-Error "pip could not install $Spec. Hint: $venvPython -m pip install --upgrade '$Spec'" -ErrorAction Continue
    exit 4
}

$cmemOps = Join-Path $venv 'Scripts\cmem-ops.exe'
if ($NoRun) {
    Write-Host "cmem-ops is ready: $cmemOps install"
    exit 0
}
$passThrough = @($InstallArgs | Where-Object { $_ -ne '--' })
& $cmemOps install @passThrough
exit $LASTEXITCODE
