console.log("sluice: not built yet")
