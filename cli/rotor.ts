console.log("rotor");
