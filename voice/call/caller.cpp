// caller: written with the SIP call layer.
