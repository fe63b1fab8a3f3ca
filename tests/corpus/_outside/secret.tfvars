# Outside every case repository: driftwatch must never read this file.
name = "LEAKED-CANARY-VALUE"
