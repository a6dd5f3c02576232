console.log('dashboard');
